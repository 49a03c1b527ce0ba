// The Container Apps environment, logging to Log Analytics. Its own module so its default domain
// (hence the backend's URL) is known before Web PubSub and the app are made: no cycle.

@description('Name of the environment.')
param name string

@description('Azure region.')
param location string

@description('Log Analytics workspace id and customer id.')
param workspaceId string
param workspaceCustomerId string

param tags object = {}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: workspaceCustomerId
        sharedKey: listKeys(workspaceId, '2023-09-01').primarySharedKey
      }
    }
  }
}

output id string = environment.id
output defaultDomain string = environment.properties.defaultDomain
